// tillit console: the people page. Filters the rows of the page shown by
// name, in the browser; without this script the whole page simply shows.
// Texts come from the page (data- attributes) in the page's language.
"use strict";

(function () {
  function fold(s) {
    return s.toLocaleLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "").trim();
  }

  function start() {
    var box = document.querySelector("[data-filter]");
    var table = document.getElementById("people");
    if (!box || !table || !table.tBodies.length) return;
    var input = box.querySelector("input");
    var status = box.querySelector("[aria-live]");
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    box.hidden = false;
    input.addEventListener("input", function () {
      var q = fold(input.value), shown = 0;
      rows.forEach(function (tr) {
        var hit = q === "" || fold(tr.cells[0].textContent).indexOf(q) >= 0;
        tr.hidden = !hit;
        if (hit) shown++;
      });
      status.textContent = q === "" ? "" :
        box.dataset.count.replace("{shown}", shown).replace("{total}", rows.length);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
