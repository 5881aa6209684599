/* Customer Insights dashboard: draws the charts from the page's json_script data.
 * No inline script (CSP-friendly); every chart also has a table with the same numbers.
 * Clicking a bar, slice or point with a drill-down URL opens the filtered customer list. */
(function () {
  "use strict";

  // Dark, distinct colours: each keeps at least 4.5:1 contrast against white.
  var LIGHT_PALETTE = ["#1f4e79", "#b03a00", "#2e6b30", "#6a1b9a", "#8a5a00",
                       "#00695c", "#ad1457", "#37474f", "#4527a0", "#5d4037"];
  // Light, distinct colours for the admin's dark theme: each keeps 4.5:1 against black.
  var DARK_PALETTE = ["#7fb3e6", "#ff9a66", "#8fd18f", "#d29be6", "#e6c266",
                      "#66d1c2", "#f08fb8", "#b0bec5", "#a99be6", "#c9a899"];
  var PALETTE = LIGHT_PALETTE;

  // The admin theme's colours (light or dark, following the system or the theme toggle).
  function themeColour(name, fallback) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue(name);
    return (value && value.trim()) || fallback;
  }

  function isDark(colour) {
    var probe = document.createElement("span");
    probe.style.color = colour;
    document.body.appendChild(probe);
    var rgb = window.getComputedStyle(probe).color.match(/\d+/g) || [255, 255, 255];
    document.body.removeChild(probe);
    return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) < 128;
  }

  // Numbers and money in the page's language, with the installation's currency.
  function formatters(fmt) {
    var locale = document.documentElement.lang || "en";
    var money = new Intl.NumberFormat(locale, {style: "currency", currency: fmt.currency || "IDR",
      currencyDisplay: locale.indexOf("id") === 0 ? "symbol" : "code",
      minimumFractionDigits: 0, maximumFractionDigits: fmt.money_decimals || 0});
    var moneyShort = new Intl.NumberFormat(locale, {style: "currency", currency: fmt.currency || "IDR",
      currencyDisplay: locale.indexOf("id") === 0 ? "symbol" : "code",
      notation: "compact", maximumFractionDigits: 1});
    var number = new Intl.NumberFormat(locale, {maximumFractionDigits: 2});
    return {money: money, moneyShort: moneyShort, number: number};
  }

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
    if (key === "lifecycle") {
      return {labels: chart.labels, datasets: [
        dataset(labels.new_buyers, s.new_buyers, 2), dataset(labels.returning_buyers, s.returning_buyers, 0),
        dataset(labels.lost_buyers, s.lost_buyers, 1)]};
    }
    if (key === "segments") {
      return {labels: chart.labels, datasets: [dataset(labels.customers, s.customers, 3)]};
    }
    // source / company
    var set = dataset(labels.customers, s.customers, 0);
    if (type === "doughnut") {
      // "All others" sums many labels: a grey of its own, never the colour of a real label
      // (the palette has ten colours, so the eleventh slice took the first one's).
      var others = chart.others || [];
      var grey = themeColour("--body-quiet-color", "#757575");
      set.backgroundColor = chart.labels.map(function (_l, i) {
        return others[i] ? grey : PALETTE[i % PALETTE.length];
      });
      set.borderColor = themeColour("--body-bg", "#ffffff");
    }
    return {labels: chart.labels, datasets: [set]};
  }

  function draw(canvas, charts, labels, f) {
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
        if (!elements.length) { return; }
        // A chart with several series (growth, lifecycle) has a URL list per dataset.
        var perSeries = chart.dataset_urls || chart.series_urls;
        var urls = perSeries ? perSeries[elements[0].datasetIndex] : chart.urls;
        var url = urls && urls[elements[0].index];
        if (url) { window.location.assign(url); }
      },
      onHover: function (event, elements) {
        var links = chart.urls || chart.series_urls;
        event.native.target.style.cursor = links && elements.length ? "pointer" : "default";
      }
    };
    if (type === "bar" && (key === "company" || key === "products" || key === "segments" || key === "lost")) {
      options.indexAxis = "y";
    }
    var isMoney = key === "products" && chart.order === "revenue";
    var isPct = key === "association";
    function full(value) {
      if (isMoney) { return f.money.format(value); }
      return f.number.format(value) + (isPct ? "%" : "");
    }
    options.plugins.tooltip = {callbacks: {label: function (ctx) {
      var value = ctx.parsed && typeof ctx.parsed === "object"
        ? (options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y) : ctx.parsed;
      return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + full(value);
    }}};
    if (type !== "doughnut") {
      var valueTicks = {callback: function (value) {
        return isMoney ? f.moneyShort.format(value) : f.number.format(value) + (isPct ? "%" : "");
      }};
      var grid = {color: themeColour("--hairline-color", "#e8e8e8")};
      var valueAxis = {beginAtZero: true, ticks: valueTicks, grid: grid};
      var categoryAxis = {grid: grid};
      options.scales = options.indexAxis === "y"
        ? {x: valueAxis, y: categoryAxis} : {x: categoryAxis, y: valueAxis};
      // Every label of a bar chart is drawn (Chart.js skipped every other company when
      // printing); long ones are cut with an ellipsis, the table and tooltip keep them whole.
      if (options.indexAxis === "y") {
        categoryAxis.ticks = {autoSkip: false, callback: function (value) {
          var text = this.getLabelForValue(value);
          return text.length > 28 ? text.slice(0, 27) + "\u2026" : text;
        }};
      }
    }
    if (key === "service") {
      // Two measures, two axes: rooms on the left, the median resolution (minutes) on the
      // right, each titled with what it counts.
      options.scales.y.title = {display: true, text: labels.rooms};
      options.scales.y1 = {position: "right", beginAtZero: true, grid: {drawOnChartArea: false},
                           title: {display: true, text: labels.resolution_min},
                           ticks: {callback: function (value) { return f.number.format(value); }}};
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

  // The switches of a section (lapse window, retention event, New customers, By revenue)
  // change that section only: the page they link to is fetched and swapped in place, with the
  // section kept where it was on the screen (it is 4,000 px down the page), and the URL keeps
  // the state (#section too, for a reload). Any failure falls back to following the link.
  function destroyCharts(root) {
    if (!window.Chart) { return; }
    root.querySelectorAll("canvas").forEach(function (canvas) {
      var chart = window.Chart.getChart(canvas);
      if (chart) { chart.destroy(); }
    });
  }

  function switchInPlace() {
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest(".insights-switch a[href]") : null;
      if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey ||
          event.ctrlKey || event.shiftKey || event.altKey) { return; }
      var section = link.closest("section[id]");
      var main = document.getElementById("content-main");
      if (!section || !main || !window.fetch || !window.DOMParser) { return; }
      event.preventDefault();
      var top = section.getBoundingClientRect().top;
      var url = new URL(link.href, window.location.href);
      url.hash = "";
      main.setAttribute("aria-busy", "true");
      window.fetch(url.toString(), {credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html")
            .getElementById("content-main");
          if (!fresh) { throw new Error("no dashboard in the answer"); }
          destroyCharts(main);
          main.replaceWith(document.adoptNode(fresh));
          url.hash = section.id;
          window.history.pushState({insights: true}, "", url.toString());
          drawAll();
          var again = document.getElementById(section.id);
          if (again) {
            window.scrollBy(0, again.getBoundingClientRect().top - top);
            var current = again.querySelector(".insights-switch a[aria-current]");
            if (current) { current.focus({preventScroll: true}); }
          }
        })
        .catch(function () { window.location.href = link.href; });
    });
    // Back and forward: the URL holds the state; reload it.
    window.addEventListener("popstate", function () { window.location.reload(); });
  }

  function drawAll() {
    drawCharts();
    document.dispatchEvent(new CustomEvent("insights:drawn"));
  }

  function init() {
    switchInPlace();
    drawAll();
    // "Print / save as PDF" recorded the print and came back in print mode: open the dialog
    // once the charts have drawn.
    if (document.body.classList.contains("insights-print-mode")) {
      window.setTimeout(function () { window.print(); }, 400);
    }
  }

  var printing = [];
  // Charts are sized for the screen; resize them to the paper before printing.
  window.addEventListener("beforeprint", function () { printing.forEach(function (c) { c.resize(); }); });

  function drawCharts() {
    customRange();
    var charts = readJson("insights-charts");
    var labels = readJson("insights-labels") || {};
    if (!charts || !window.Chart) { return; }
    var f = formatters(readJson("insights-format") || {});
    var fg = themeColour("--body-fg", "#333");
    PALETTE = isDark(themeColour("--body-bg", "#fff")) ? DARK_PALETTE : LIGHT_PALETTE;
    window.Chart.defaults.font.size = 13;
    window.Chart.defaults.color = fg;
    window.Chart.defaults.borderColor = themeColour("--hairline-color", "#e8e8e8");
    printing = [];
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var chart = draw(canvas, charts, labels, f);
      if (chart) { printing.push(chart); }
    });
  }

  // Deferred scripts run before DOMContentLoaded: waiting for it lets value.js (deferred, later
  // in the page) listen for "insights:drawn" first.
  if (document.readyState === "complete") {
    init();
  } else {
    document.addEventListener("DOMContentLoaded", init);
  }
})();
