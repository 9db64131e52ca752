// WebAuthn security keys: registration (2FA page) and sign-in (second step). The server verifies
// everything (py_webauthn); this file only moves bytes between the server and navigator.credentials.
(function () {
  "use strict";

  function b64urlToBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function bufferToB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : "{}",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || response.statusText);
        return data;
      });
    });
  }

  function showError(button, error) {
    var box = document.getElementById("webauthn-error");
    if (!box) return;
    box.textContent = (button.dataset.error || "") + (error && error.message ? " (" + error.message + ")" : "");
    box.classList.remove("d-none");
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: bufferToB64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: bufferToB64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = bufferToB64url(response.attestationObject);
      if (response.getTransports) json.response.transports = response.getTransports();
    } else {
      json.response.authenticatorData = bufferToB64url(response.authenticatorData);
      json.response.signature = bufferToB64url(response.signature);
      if (response.userHandle) json.response.userHandle = bufferToB64url(response.userHandle);
    }
    return json;
  }

  var register = document.getElementById("webauthn-register");
  if (register) {
    register.addEventListener("click", function () {
      if (!window.PublicKeyCredential) return showError(register, new Error("WebAuthn not supported"));
      post(register.dataset.begin)
        .then(function (options) {
          options.challenge = b64urlToBuffer(options.challenge);
          options.user.id = b64urlToBuffer(options.user.id);
          (options.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuffer(c.id); });
          return navigator.credentials.create({ publicKey: options });
        })
        .then(function (credential) {
          var name = document.getElementById("webauthn-name");
          return post(register.dataset.finish, {
            name: name && name.value ? name.value : "Security key",
            credential: credentialJSON(credential),
          });
        })
        .then(function (data) { window.location.assign(data.redirect); })
        .catch(function (error) { showError(register, error); });
    });
  }

  var signIn = document.getElementById("webauthn-login");
  if (signIn) {
    signIn.addEventListener("click", function () {
      if (!window.PublicKeyCredential) return showError(signIn, new Error("WebAuthn not supported"));
      post(signIn.dataset.begin)
        .then(function (options) {
          options.challenge = b64urlToBuffer(options.challenge);
          (options.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuffer(c.id); });
          return navigator.credentials.get({ publicKey: options });
        })
        .then(function (credential) {
          var body = credentialJSON(credential);
          return fetch(signIn.dataset.finish, {
            method: "POST",
            credentials: "same-origin",
            headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/json" },
            body: JSON.stringify(body),
          }).then(function (response) {
            return response.json().then(function (data) {
              if (!response.ok) throw new Error(data.detail || response.statusText);
              return data;
            });
          });
        })
        .then(function (data) { window.location.assign(data.redirect); })
        .catch(function (error) { showError(signIn, error); });
    });
  }
})();
