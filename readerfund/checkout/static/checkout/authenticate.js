// A renewal's 3-D Secure step: Stripe.js shows the bank's page; then the form posts so our server reads the result.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("authenticate-config").textContent);
  var form = document.getElementById("authenticate-form");
  var button = document.getElementById("confirm");
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    document.getElementById("status").textContent = config.working;
    try { await window.Stripe(config.publishable_key).confirmCardPayment(config.client_secret); } catch (e) {}
    form.submit();
  });
})();
