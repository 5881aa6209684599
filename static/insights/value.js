/* "Customer value (predicted)": the P(alive) histogram and the model check chart, drawn from
 * the json_script "insights-value-charts". No inline script; each chart has its numbers in a
 * table or in the figures beside it. */
(function () {
  "use strict";

  // The admin theme's colours, so the axes and bars read on light and on dark backgrounds.
  function themeColour(name, fallback) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function draw() {
    var node = document.getElementById("insights-value-charts");
    if (!node || !window.Chart) { return; }
    var charts = JSON.parse(node.textContent);
    var labels = charts.labels;
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var fg = themeColour("--body-fg", "#333");
    var grid = {color: themeColour("--hairline-color", "#e8e8e8")};
    var accent = themeColour("--insights-accent", "#1f4e79");
    var second = themeColour("--insights-bad", "#b03a00");
    var options = {responsive: true, maintainAspectRatio: false, animation: reduced ? false : {duration: 300},
                   color: fg,
                   scales: {x: {ticks: {color: fg}, grid: grid},
                            y: {beginAtZero: true, ticks: {color: fg}, grid: grid}}};
    document.querySelectorAll("canvas[data-value-chart]").forEach(function (canvas) {
      var key = canvas.dataset.valueChart;
      var chart = charts[key];
      var datasets = key === "histogram"
        ? [{label: labels.one_time, data: chart.series.one_time, backgroundColor: second},
           {label: labels.repeat, data: chart.series.repeat, backgroundColor: accent}]
        : [{label: labels.actual, data: chart.series.actual, backgroundColor: second},
           {label: labels.expected, data: chart.series.expected, backgroundColor: accent}];
      var stacked = key === "histogram";
      var scales = stacked
        ? {x: {stacked: true, ticks: {color: fg}, grid: grid},
           y: {stacked: true, beginAtZero: true, ticks: {color: fg}, grid: grid}}
        : options.scales;
      new window.Chart(canvas, {type: "bar", data: {labels: chart.labels, datasets: datasets},
        options: Object.assign({}, options, {plugins: {legend: {display: true}}, scales: scales})});
    });
  }

  // dashboard.js draws its charts, then says so (also after a switch swapped the page in
  // place); without it (the 360° page) draw on load.
  if (document.querySelector("script[src*='insights/dashboard.js']")) {
    document.addEventListener("insights:drawn", draw);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
