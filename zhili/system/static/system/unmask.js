// Per-record unmask (R-10.3-rbac): a "show" button next to a masked value asks the server for
// the clear value; the server checks the unmask permission and scope and audits the read.
(function () {
  "use strict";
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-unmask-url]");
    if (!button) return;
    event.preventDefault();
    button.disabled = true;
    fetch(button.getAttribute("data-unmask-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (data) {
        var target = document.getElementById(button.getAttribute("data-unmask-target"));
        if (target) target.textContent = data.value;
        button.remove();
      })
      .catch(function () {
        button.disabled = false;
        button.classList.add("text-danger");
      });
  });
})();
