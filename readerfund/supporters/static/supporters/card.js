// The card page: POST start -> a SetupIntent's client secret -> Stripe.js confirmCardSetup (3-D Secure here)
// -> the form posts the SetupIntent's id to finish. Asking start again returns the same waiting SetupIntent,
// so a double click or a retry sets up one card.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("card-config").textContent);
  var form = document.getElementById("card-form");
  var button = document.getElementById("card-submit");
  var statusEl = document.getElementById("status");
  var errorEl = document.getElementById("card-error");
  var stripe = window.Stripe(config.publishable_key);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var busy = false;

  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = false;
    statusEl.textContent = "";
    busy = false;
    button.disabled = false;
    button.focus();
  }

  function start() {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    return fetch(config.start_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
      body: "locale=" + encodeURIComponent(config.locale)
    }).then(function (response) {
      return response.json().catch(function () { return { error: config.messages.generic }; });
    }, function () { return { error: config.messages.generic }; });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    button.disabled = true;
    errorEl.hidden = true;
    statusEl.textContent = config.messages.working;
    var answer = await start();
    if (answer.error || !answer.client_secret) { showError(answer.error || config.messages.generic); return; }
    var result = await stripe.confirmCardSetup(answer.client_secret, { payment_method: { card: card } });
    if (result && result.error) { showError(result.error.message || config.messages.card_declined); return; }
    document.getElementById("setup-intent").value = answer.client_secret.split("_secret_")[0];
    form.submit();  // a plain POST: the answer is the page with its confirmation, or this page with the reason
  });
})();
