// Sign-in page: a click on the captcha picture loads a new one (no inline script: CSP).
(function () {
  "use strict";
  var image = document.getElementById("captcha-image");
  if (!image) return;
  image.style.cursor = "pointer";
  image.addEventListener("click", function () {
    image.src = image.dataset.src + "?t=" + Date.now();
    var input = document.getElementById("id_captcha");
    if (input) { input.value = ""; input.focus(); }
  });
})();
