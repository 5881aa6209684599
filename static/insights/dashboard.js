/* Customer Insights dashboard: draws the charts from the page's json_script data.
 * No inline script (CSP-friendly); every chart also has a table with the same numbers.
 * Clicking a bar, slice or point with a drill-down URL opens the filtered customer list. */
(function () {
  "use strict";

  // Dark, distinct colours: each keeps at least 4.5:1 contrast against white.
  var PALETTE = ["#1f4e79", "#b03a00", "#2e6b30", "#6a1b9a", "#8a5a00",
                 "#00695c", "#ad1457", "#37474f", "#4527a0", "#5d4037"];

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function dataset(label, data, index, extra) {
    var set = {label: label, data: data, borderColor: PALETTE[index % PALETTE.length],
               backgroundColor: PALETTE[index % PALETTE.length], borderWidth: 2};
    return Object.assign(set, extra || {});
  }

  function config(key, type, chart, labels) {
    var s = chart.series;
    if (key === "growth") {
      return {labels: chart.labels, datasets: [
        dataset(labels.total, s.total, 0, {tension: 0.2}),
        dataset(labels["new"], s["new"], 1, {tension: 0.2}),
        dataset(labels.inactive, s.inactive, 2, {tension: 0.2, borderDash: [6, 4]})]};
    }
    if (key === "service") {
      return {labels: chart.labels, datasets: [
        dataset(labels.rooms, s.rooms, 0),
        dataset(labels.resolution_min, s.resolution_min, 1, {type: "line", yAxisID: "y1", tension: 0.2})]};
    }
    if (key === "association") {
      return {labels: chart.labels, datasets: [dataset(labels.pct, s.pct, 0, {tension: 0.2})]};
    }
    if (key === "lost") {
      return {labels: chart.labels, datasets: [
        dataset(labels.deals, s.deals, 1), dataset(labels.customers, s.customers, 0)]};
    }
    if (key === "products") {
      var byRevenue = chart.order === "revenue";
      return {labels: chart.labels, datasets: [byRevenue
        ? dataset(labels.revenue, s.revenue, 2)
        : dataset(labels.won_deals, s.won_deals, 2)]};
    }
    if (key === "segments") {
      return {labels: chart.labels, datasets: [dataset(labels.customers, s.customers, 3)]};
    }
    // source / company
    var set = dataset(labels.customers, s.customers, 0);
    if (type === "doughnut") {
      set.backgroundColor = chart.labels.map(function (_l, i) { return PALETTE[i % PALETTE.length]; });
      set.borderColor = "#ffffff";
    }
    return {labels: chart.labels, datasets: [set]};
  }

  function draw(canvas, charts, labels) {
    var key = canvas.dataset.chart;
    var type = canvas.dataset.type || "bar";
    var chart = charts[key];
    if (!chart) { return; }
    var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduced ? false : {duration: 300},
      plugins: {legend: {display: type === "doughnut" || (chart.series && Object.keys(chart.series).length > 1 && key !== "products" && key !== "segments")}},
      onClick: function (_event, elements) {
        if (!chart.urls || !elements.length) { return; }
        var url = chart.urls[elements[0].index];
        if (url) { window.location.assign(url); }
      },
      onHover: function (event, elements) {
        event.native.target.style.cursor = chart.urls && elements.length ? "pointer" : "default";
      }
    };
    if (key === "service") {
      options.scales = {y: {beginAtZero: true}, y1: {position: "right", beginAtZero: true, grid: {drawOnChartArea: false}}};
    }
    if (type === "bar" && (key === "company" || key === "products" || key === "segments" || key === "lost")) {
      options.indexAxis = "y";
    }
    if (type !== "doughnut") {
      options.scales = {x: {ticks: {color: "#333"}}, y: {beginAtZero: true, ticks: {color: "#333"}}};
    }
    return new window.Chart(canvas, {type: type, data: config(key, type, chart, labels), options: options});
  }

  function customRange() {
    // The custom dates are sent only with "Custom range", so a preset never clashes with them.
    var preset = document.getElementById("id_preset");
    if (!preset) { return; }
    var dates = [document.getElementById("id_start"), document.getElementById("id_end")];
    function sync() {
      dates.forEach(function (input) { if (input) { input.disabled = preset.value !== "custom"; } });
    }
    preset.addEventListener("change", sync);
    sync();
  }

  function init() {
    customRange();
    var charts = readJson("insights-charts");
    var labels = readJson("insights-labels") || {};
    if (!charts || !window.Chart) { return; }
    window.Chart.defaults.font.size = 13;
    window.Chart.defaults.color = "#333";
    var drawn = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = draw(canvas, charts, labels);
      if (chart) { drawn.push(chart); }
    });
    // Charts are sized for the screen; resize them to the paper before printing.
    window.addEventListener("beforeprint", function () { drawn.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
