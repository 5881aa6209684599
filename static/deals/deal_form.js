/* Deal form: offer the line items' total as the amount, and warn while they differ.
 * The server does the same on save (deals/entry.py); this only shows it while typing. */
(function () {
  "use strict";

  function number(input) {
    var value = input ? parseFloat(String(input.value).replace(",", ".")) : NaN;
    return isNaN(value) ? null : value;
  }

  function itemsTotal() {
    var total = 0, lines = 0;
    document.querySelectorAll("tr.form-row[id^='items-']:not(.empty-form)").forEach(function (row) {
      var remove = row.querySelector("input[name$='-DELETE']");
      if (remove && remove.checked) { return; }
      var quantity = number(row.querySelector("input[name$='-quantity']"));
      var price = number(row.querySelector("input[name$='-unit_price']"));
      if (quantity !== null && price !== null) { total += quantity * price; lines += 1; }
    });
    return lines ? Math.round(total * 100) / 100 : null;
  }

  function init() {
    var amount = document.getElementById("id_amount");
    if (!amount) { return; }
    var note = document.createElement("div");
    note.className = "help deal-items-total";
    note.setAttribute("aria-live", "polite");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button";
    button.textContent = amount.dataset.useLabel || "Use the items' total";
    var text = document.createElement("span");
    note.appendChild(text);
    note.appendChild(document.createTextNode(" "));
    note.appendChild(button);
    amount.parentNode.appendChild(note);
    var format = new Intl.NumberFormat(document.documentElement.lang || "en");

    function update() {
      var total = itemsTotal();
      note.hidden = total === null;
      if (total === null) { return; }
      var current = number(amount);
      var differs = current !== null && Math.abs(current - total) >= 0.005;
      text.textContent = (differs ? (amount.dataset.differsLabel || "Differs from the items' total:")
                                  : (amount.dataset.totalLabel || "Items' total:")) + " " + format.format(total);
      note.classList.toggle("errornote", differs);
      button.hidden = !differs && current !== null;
    }
    button.addEventListener("click", function () { amount.value = itemsTotal(); update(); });
    document.addEventListener("input", update);
    document.addEventListener("formset:added", update);
    document.addEventListener("formset:removed", update);
    update();
  }

  /* The expected close date's placeholder follows the stage chosen: today + the stage's
   * typical cycle (deals/pipeline.py). Only a placeholder: nothing is filled in. */
  function initExpectedClose() {
    var input = document.querySelector("input[data-suggestions]");
    var stage = document.getElementById("id_stage");
    if (!input || !stage) { return; }
    var suggestions = JSON.parse(input.dataset.suggestions || "{}");
    function follow() { input.placeholder = suggestions[stage.value] || ""; }
    stage.addEventListener("change", follow);
    if (window.django && window.django.jQuery) { window.django.jQuery(stage).on("change", follow); }
  }

  function start() { init(); initExpectedClose(); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
