/* "Customer value (predicted)": the P(alive) histogram and the model check chart, drawn from
 * the json_script "insights-value-charts". No inline script; each chart has its numbers in a
 * table or in the figures beside it. */
(function () {
  "use strict";

  function draw() {
    var node = document.getElementById("insights-value-charts");
    if (!node || !window.Chart) { return; }
    var charts = JSON.parse(node.textContent);
    var labels = charts.labels;
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var options = {responsive: true, maintainAspectRatio: false, animation: reduced ? false : {duration: 300},
                   scales: {x: {ticks: {color: "#333"}}, y: {beginAtZero: true, ticks: {color: "#333"}}}};
    document.querySelectorAll("canvas[data-value-chart]").forEach(function (canvas) {
      var key = canvas.dataset.valueChart;
      var chart = charts[key];
      var datasets = key === "histogram"
        ? [{label: labels.one_time, data: chart.series.one_time, backgroundColor: "#b03a00"},
           {label: labels.repeat, data: chart.series.repeat, backgroundColor: "#1f4e79"}]
        : [{label: labels.actual, data: chart.series.actual, backgroundColor: "#b03a00"},
           {label: labels.expected, data: chart.series.expected, backgroundColor: "#1f4e79"}];
      var stacked = key === "histogram";
      var scales = stacked
        ? {x: {stacked: true, ticks: {color: "#333"}},
           y: {stacked: true, beginAtZero: true, ticks: {color: "#333"}}}
        : options.scales;
      new window.Chart(canvas, {type: "bar", data: {labels: chart.labels, datasets: datasets},
        options: Object.assign({}, options, {plugins: {legend: {display: true}}, scales: scales})});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
