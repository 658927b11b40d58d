// Times in the browser's time zone; UTC stays in the title (on hover).
function localize(root) {
  root.querySelectorAll("time[datetime]").forEach(function (t) {
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) { t.textContent = d.toLocaleString(); }
  });
}
document.addEventListener("htmx:load", function (e) { localize(e.detail.elt); });
