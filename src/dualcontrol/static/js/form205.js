// The online 205-1 form (issue 14): running totals and the row checks as the unit types.
// Each row carries its reference coefficient (data-coef); the figure shown is column 4 ×
// (column 10, else the reference coefficient), summed: an estimate until the platform's
// accounting runs on submission (which applies the accounting rules of the reference data).
(function () {
  "use strict";
  function num(input) {
    if (!input) return 0;
    var v = parseFloat(String(input.value).replace(/,/g, ""));
    return isFinite(v) ? v : 0;
  }
  function cell(row, name) {
    return row.querySelector('input[name$="-' + name + '"]');
  }
  function close(a, b) {
    return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  function update(table) {
    var total = 0;
    var bad = 0;
    table.querySelectorAll("tr[data-coef]").forEach(function (row) {
      var c4 = num(cell(row, "consumption_total"));
      var c5 = num(cell(row, "industrial_production"));
      var c7 = num(cell(row, "non_industrial"));
      var c1 = num(cell(row, "opening_stock"));
      var c2 = num(cell(row, "purchases_qty"));
      var c9 = num(cell(row, "closing_stock"));
      var used = num(cell(row, "coefficient_used"));
      var coef = used || parseFloat(row.getAttribute("data-coef")) || 0;
      total += c4 * coef;
      var filled = Array.prototype.some.call(row.querySelectorAll("input"), function (i) {
        return i.value.trim() !== "";
      });
      var ok = !filled || (close(c4, c5 + c7) && close(c9, c1 + c2 - c4));
      row.classList.toggle("mismatch", !ok);
      if (!ok) bad += 1;
    });
    var out = table.parentNode.parentNode.querySelector("[data-total-tce]");
    if (out) {
      out.textContent = total.toLocaleString("zh-CN", {
        minimumFractionDigits: 2,
        maximumFractionDigits: 2,
      });
    }
    var warn = table.parentNode.parentNode.querySelector("[data-mismatch-rows]");
    if (warn) {
      warn.textContent = String(bad);
      warn.parentNode.hidden = bad === 0;
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table.form205").forEach(function (table) {
      table.addEventListener("input", function () {
        update(table);
      });
      update(table);
    });
  });
})();
