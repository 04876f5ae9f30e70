(function () {
  var H = document.documentElement, errs = [], csp = [];
  H.setAttribute("data-js-errors", "");
  window.onerror = function (msg, src, line, col) {
    errs.push(String(msg) + " @" + line + ":" + col);
    H.setAttribute("data-js-errors", errs.join(" | "));
  };
  window.addEventListener("unhandledrejection", function (e) {
    errs.push("unhandled rejection: " + String(e.reason));
    H.setAttribute("data-js-errors", errs.join(" | "));
  });
  document.addEventListener("securitypolicyviolation", function (e) {
    csp.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
    H.setAttribute("data-csp-violations", csp.join(" | "));
  });
  window.addEventListener("load", function () {
    void document.body.offsetHeight; // force style and layout of the whole page
    H.setAttribute("data-render-ms", String(Math.round(performance.now())));
  });
  var lang = null;
  try { lang = (location.hash.match(/lang=(vi|en)/) || [])[1] || localStorage.getItem("diaphuong-lang"); } catch (e) { }
  if (lang === "en" || lang === "vi") H.lang = lang;
})();
