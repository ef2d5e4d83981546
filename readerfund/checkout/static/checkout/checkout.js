// The checkout page: amounts, then Stripe.js card (or SEPA) set-up, then our server charges or subscribes.
// Flow: POST start -> SetupIntent secret -> confirmCardSetup / confirmSepaDebitSetup -> POST pay ->
// done | action (confirmCardPayment for 3-D Secure, then POST pay again) | failed (with a fresh request key).
// The request key is the server's handle on this checkout: a retry with it never charges twice. It is kept in
// sessionStorage from the first submit until the checkout ends, so a reload (after 3-D Secure, after an error)
// finishes the same contribution instead of starting a second one.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("checkout-config").textContent);
  var messages = config.messages;
  var form = document.getElementById("checkout");
  var submitButton = document.getElementById("submit");
  var statusEl = document.getElementById("status");
  var currencyEl = document.getElementById("currency");
  var customEl = document.getElementById("custom-amount");
  var suggestedEl = document.getElementById("suggested");
  // Per tab and gone with it: never localStorage or a cookie, where a checkout would outlive the tab (readers
  // may be at risk for supporting a newsroom). Only the newsroom scopes it: whatever the reader changes on the
  // page, an unfinished checkout in this tab is the same checkout.
  var storageKey = "readerfund:" + config.newsroom + ":checkout";
  var requestKey = savedKey() || config.request_key;
  var busy = false;

  // Storage may be disabled or full: the checkout still works, only a reload then starts afresh.
  function savedKey() {
    var key = null;
    try { key = window.sessionStorage.getItem(storageKey); } catch (error) { return null; }
    return /^[A-Za-z0-9_-]{16,64}$/.test(key || "") ? key : null;  // validation.REQUEST_KEY
  }
  function keep(key) {
    requestKey = key;
    try { window.sessionStorage.setItem(storageKey, key); } catch (error) { /* see savedKey */ }
  }
  function forget() {
    try { window.sessionStorage.removeItem(storageKey); } catch (error) { /* see savedKey */ }
  }

  var stripe = window.Stripe(config.publishable_key);
  var card = stripe.elements().create("card");
  card.mount("#card-element");

  function $(id) { return document.getElementById(id); }
  function checked(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }
  function frequency() { return checked("frequency") || config.frequency; }
  function method() { return currencyEl.value === "EUR" && checked("method") === "sepa_debit" ? "sepa_debit" : "card"; }

  function renderAmounts(preferred) {
    var option = config.options[currencyEl.value][frequency()];
    suggestedEl.textContent = "";
    option.suggested.forEach(function (choice, index) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "amount_choice";
      input.value = String(choice.amount);
      input.checked = preferred ? choice.amount === preferred : index === 0;
      input.addEventListener("change", function () { customEl.value = ""; });
      label.appendChild(input);
      label.appendChild(document.createTextNode(choice.label + suffix()));
      suggestedEl.appendChild(label);
    });
    if (preferred && !option.suggested.some(function (c) { return c.amount === preferred; })) {
      customEl.value = (preferred / 100).toFixed(2);
    }
    $("amount-hint").textContent = messages.minimum_hint.replace("{minimum}", option.minimum_label);
    $("method-group").hidden = currencyEl.value !== "EUR";
    showMethod();
  }
  function suffix() {
    var f = frequency();
    return f === "monthly" ? " " + messages.per_month : f === "annual" ? " " + messages.per_year : "";
  }
  function showMethod() {
    var sepa = method() === "sepa_debit";
    $("card-group").hidden = sepa;
    $("sepa-group").hidden = !sepa;
  }

  function amount() {
    var typed = customEl.value.trim();
    if (typed) { return typed; }
    var choice = checked("amount_choice");
    return choice ? parseInt(choice, 10) : "";
  }

  function clearErrors() {
    ["amount-error", "email-error", "payment-error", "form-error"].forEach(function (id) {
      $(id).hidden = true;
      $(id).textContent = "";
    });
    [customEl, $("email"), $("iban")].forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }
  function showError(text, field) {
    var target = { amount: "amount-error", currency: "amount-error", frequency: "amount-error",
                   email: "email-error", payment: "payment-error", method: "payment-error" }[field] || "form-error";
    $(target).textContent = text;
    $(target).hidden = false;
    var input = { amount: customEl, email: $("email"), payment: method() === "sepa_debit" ? $("iban") : null }[field];
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
    // form-error is an alert already: saying it in the status region too would read it out twice.
    statusEl.textContent = target === "form-error" ? "" : text;
  }

  // A busy database answers 503 "busy" with Retry-After: the same request (same key) is safe to send again,
  // so the page does that a few times by itself before it tells the reader.
  var BUSY_RETRIES = 3;

  function post(url, body, tries) {
    tries = tries || 0;
    return send(url, body).then(function (answer) {
      if (answer.error && answer.error.code === "busy" && tries < BUSY_RETRIES) {
        var wait = 1000 * Math.min(Math.max(parseInt(answer.retryAfter, 10) || 2, 1), 10);
        return new Promise(function (resolve) { setTimeout(resolve, wait); }).then(function () {
          return post(url, body, tries + 1);
        });
      }
      return answer;
    });
  }

  function send(url, body) {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, "X-Readerfund-Locale": config.locale },
      body: JSON.stringify(body)
    }).then(function (response) {
      // Not JSON (a proxy's error page, a 500): the request may have done its work, so don't say it didn't.
      return response.json().then(function (answer) {
        if (answer && answer.error) { answer.retryAfter = response.headers.get("Retry-After"); }
        return answer;
      }, function () {
        return { error: { code: "generic", message: messages.generic } };
      });
    }, function () {
      // No answer at all: the request may still have reached us and Stripe. The same key makes the retry safe.
      return { error: { code: "unconfirmed", message: messages.unconfirmed } };
    });
  }

  function stripeErrorText(error) {
    var code = (error && (error.decline_code || error.code)) || "";
    if (method() === "sepa_debit") { return messages.sepa_failed; }
    if (/authentication/.test(code) || /authentication/i.test((error && error.message) || "")) {
      return messages.authentication_failed;
    }
    if (error && (error.type === "validation_error" || code === "incomplete_number")) {
      return error.message || messages.card_declined;
    }
    return messages.card_declined;
  }

  function setUp(secret) {
    var name = $("name").value.trim();
    if (method() === "sepa_debit") {
      return stripe.confirmSepaDebitSetup(secret, {
        payment_method: { sepa_debit: { iban: $("iban").value.replace(/\s+/g, "") },
                          billing_details: { name: name || $("email").value, email: $("email").value } }
      });
    }
    var details = name ? { name: name } : {};
    return stripe.confirmCardSetup(secret, { payment_method: { card: card, billing_details: details } });
  }

  function pay() { return post(config.pay_url, { request_key: requestKey, locale: config.locale }); }

  // While card testing is suspected the server answers a start with 428 "proof_required" and a challenge:
  // proof.js (ours) solves it and the start is sent again with the solution. Each solution is good once.
  async function start(body, proofs) {
    proofs = proofs || 0;
    var answer = await post(config.start_url, body);
    var required = answer.error && answer.error.code === "proof_required" && answer.error.challenge;
    if (required && proofs < 2 && window.readerfundProof) {
      statusEl.textContent = messages.proving;
      var solution = await window.readerfundProof.solve(answer.error.challenge);
      if (solution) {
        statusEl.textContent = messages.working;
        return start(Object.assign({}, body, { proof: solution }), proofs + 1);
      }
    }
    return answer;
  }

  // actions: 3-D Secure prompts shown; waits: "pay" answers (the checkout busy elsewhere) waited out.
  async function handle(answer, actions, waits) {
    waits = waits || 0;
    if (answer.error) {
      if (answer.error.next_request_key) { keep(answer.error.next_request_key); }
      // "Please reload": the server can't use this key, so the reload must not bring it back.
      if (answer.error.code === "expired_page") { forget(); }
      var field = answer.error.field || (answer.error.next_request_key ? "payment" : "");
      showError(answer.error.message || messages.generic, field);
      return;
    }
    if (answer.redirect) {
      forget();  // the checkout has ended (thanks or refused): the next one in this tab gets a new key
      window.location.assign(answer.redirect);
      return new Promise(function () {});  // keep the button disabled while the next page loads
    }
    if (answer.state === "setup") {
      var result = await setUp(answer.client_secret);
      if (result && result.error) { showError(stripeErrorText(result.error), "payment"); return; }
      return handle(await pay(), actions, waits);
    }
    if (answer.state === "pay") {
      // "pay": another request of this checkout is still talking to Stripe (a double click, a reload),
      // or an earlier one must be finished first. Ask again shortly; the server never charges twice.
      if (waits >= 12) { showError(messages.unconfirmed, ""); return; }
      if (waits > 0) { await new Promise(function (resolve) { setTimeout(resolve, 1000); }); }
      return handle(await pay(), actions, waits + 1);
    }
    if (answer.state === "action") {
      if (actions >= 3) { showError(messages.authentication_failed, "payment"); return; }
      statusEl.textContent = messages.authenticating;
      await stripe.confirmCardPayment(answer.client_secret);
      statusEl.textContent = messages.working;
      return handle(await pay(), actions + 1, waits);
    }
    showError(messages.generic, "");
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (busy) { return; }  // a double click sends one request; the server would reuse it anyway
    busy = true;
    submitButton.disabled = true;
    clearErrors();
    statusEl.textContent = messages.working;
    // Saved before the request leaves: it may reach the server even if its answer never comes back.
    keep(requestKey);
    try {
      var answer = await start({
        request_key: requestKey,
        newsroom: config.newsroom,
        campaign: config.campaign,
        variant: config.variant,
        frequency: frequency(),
        currency: currencyEl.value,
        amount: amount(),
        email: $("email").value,
        name: $("name").value,
        receipt: $("receipt").checked,
        method: method(),
        locale: config.locale,
        "return": config["return"]
      });
      await handle(answer, 0);
    } catch (error) {
      showError(messages.generic, "");
    } finally {
      busy = false;
      submitButton.disabled = false;
    }
  });

  form.querySelectorAll("input[name=frequency]").forEach(function (input) {
    input.addEventListener("change", function () { renderAmounts(null); });
  });
  form.querySelectorAll("input[name=method]").forEach(function (input) {
    input.addEventListener("change", showMethod);
  });
  currencyEl.addEventListener("change", function () { renderAmounts(null); });
  customEl.addEventListener("input", function () {
    if (customEl.value.trim()) {
      form.querySelectorAll("input[name=amount_choice]").forEach(function (input) { input.checked = false; });
    }
  });
  renderAmounts(config.amount);
})();
