// Injected into a copy of a report by tests/figures/test_report.py: measures the layout after load
// and posts it to the enclosing frame page (which --dump-dom then prints).
window.addEventListener("load", function () {
  var doc = document.documentElement, bad = [], wrapped = [];
  document.querySelectorAll("body > *, table, figure img").forEach(function (el) {
    var box = el.getBoundingClientRect();
    if (el.scrollWidth > el.clientWidth + 1 || box.right > doc.clientWidth + 1) {
      bad.push(el.tagName + "#" + (el.id || el.className) + " " + el.scrollWidth + ">" + el.clientWidth);
    }
  });
  document.querySelectorAll("td.name").forEach(function (td) {
    var style = getComputedStyle(td);
    var line = parseFloat(style.lineHeight) || 1.45 * parseFloat(style.fontSize);
    if (td.getClientRects().length && td.getBoundingClientRect().height > 2.5 * line) {
      wrapped.push(td.textContent);
    }
  });
  var report = {width: doc.clientWidth, scroll: doc.scrollWidth, bad: bad, wrapped: wrapped};
  parent.postMessage(JSON.stringify(report), "*");
});
