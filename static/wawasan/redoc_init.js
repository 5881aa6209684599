// Starts ReDoc on the API schema page (templates/drf_spectacular/redoc.html). A static file, not
// an inline script: the Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  if (!container || typeof Redoc === "undefined") {
    return;
  }
  var settings = JSON.parse(container.getAttribute("data-settings") || "{}");
  Redoc.init(container.getAttribute("data-schema-url"), settings, container);
})();
