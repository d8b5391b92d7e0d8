/* Charts of the monitoring pages: every <script type="application/json" class="mon-chart"> holds
   {id, title, unit, limit, kind, x, series}; a line (hourly values) or bar chart (rates) is drawn
   into the element with that id, with the limit (or the 90 % line) as a dashed mark line.
   Runs on load and after htmx swaps (the period controls replace the chart fragment). */
(function () {
  "use strict";
  function draw(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("script.mon-chart").forEach(function (node) {
      var spec = JSON.parse(node.textContent);
      var el = document.getElementById(spec.id);
      if (!el) return;
      var old = echarts.getInstanceByDom(el);
      if (old) old.dispose();
      var bar = spec.kind === "bar";
      var values = [];
      spec.series.forEach(function (s) { s.data.forEach(function (v) { if (v !== null) values.push(v); }); });
      var top = values.length ? Math.max.apply(null, values) : 0;
      var yMax = spec.limit !== null && spec.limit !== undefined ? Math.max(top, spec.limit) * 1.15 : null;
      var series = spec.series.map(function (s, i) {
        var out = {
          name: s.name, type: bar ? "bar" : "line", data: s.data, showSymbol: false,
          connectNulls: false, itemStyle: {color: bar ? "#1f4e8c" : "#2f6fbf"}
        };
        if (bar) {
          out.itemStyle = {color: function (p) { return p.value !== null && p.value < spec.limit ? "#c0392b" : "#2e8b57"; }};
        }
        if (i === 0 && spec.limit !== null && spec.limit !== undefined) {
          out.markLine = {
            symbol: "none", silent: true,
            lineStyle: {color: bar ? "#d4a017" : "#c0392b", type: "dashed", width: 1.5},
            label: {formatter: (spec.limitLabel || "") + spec.limit + (spec.unit ? " " + spec.unit : ""), position: "insideEndTop"},
            data: [{yAxis: spec.limit}]
          };
        }
        return out;
      });
      echarts.init(el).setOption({
        animation: false,
        title: {text: spec.title + (spec.unit && !bar ? "（" + spec.unit + "）" : ""), left: 8, top: 4, textStyle: {fontSize: 13}},
        grid: {left: 48, right: 18, top: 38, bottom: 28},
        tooltip: {trigger: "axis"},
        xAxis: {type: "category", data: spec.x, axisLabel: {fontSize: 10}},
        yAxis: {type: "value", max: bar ? 100 : (yMax === null ? null : function () { return +yMax.toPrecision(3); }), min: function (v) { return v.min < 0 ? v.min : 0; }, axisLabel: {fontSize: 10}},
        series: series
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".chart").forEach(function (el) {
      var c = window.echarts && echarts.getInstanceByDom(el); if (c) c.resize();
    });
  });
})();
