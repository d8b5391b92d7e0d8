/* The workbench's region-by-region chart of methods A and B (targets/_comparison.html).
   A static file, not an inline script: the comparison is swapped in by htmx, and a script inside
   swapped content could not carry the page's CSP nonce. Draws on load and after every swap. */
(function () {
  "use strict";
  function draw() {
    var el = document.getElementById("cmpchart");
    var data = document.getElementById("cmp-data");
    if (!el || !data || !window.echarts) return;
    var d = JSON.parse(data.textContent || "null");
    if (!d) return;
    var c = echarts.getInstanceByDom(el) || echarts.init(el);
    c.setOption({animation: false, tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 44, right: 12, top: 30, bottom: 60},
      xAxis: {type: "category", data: d.names, axisLabel: {rotate: 35, fontSize: 11}},
      yAxis: {type: "value", name: "%", min: function (v) { return Math.floor(v.min - 1); }},
      series: [{name: d.a, type: "bar", data: d.av, itemStyle: {color: "#1f4e8c"}}, {name: d.b, type: "bar", data: d.bv, itemStyle: {color: "#e08a1e"}},
               {name: d.p, type: "line", data: d.pv, symbol: "none", lineStyle: {type: "dashed", color: "#c0392b"}}]}, true);
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
