// The live feed: every few seconds ask for records newer than the top row and
// insert them. Without JavaScript, the "Show newer" link reloads the page.
(function () {
  "use strict";
  var toggle = document.getElementById("live");
  var body = document.getElementById("feed-rows");
  var status = document.getElementById("live-status");
  if (!toggle || !body) { return; }
  var after = parseInt(toggle.getAttribute("data-after"), 10) || 0;
  var url = toggle.getAttribute("data-newer");
  var busy = false;

  function poll() {
    if (!toggle.checked || busy || document.hidden) { return; }
    busy = true;
    fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "after=" + after, {
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (response) {
      if (response.redirected || !response.ok) { throw new Error("feed " + response.status); }
      return response.text();
    }).then(function (html) {
      var holder = document.createElement("tbody");
      holder.innerHTML = html;
      var rows = holder.querySelectorAll("tr[data-seq]");
      if (rows.length === 0) { return; }
      for (var i = rows.length - 1; i >= 0; i--) {
        rows[i].classList.add("fresh");
        body.insertBefore(rows[i], body.firstChild);
      }
      after = Math.max(after, parseInt(rows[0].getAttribute("data-seq"), 10) || after);
      if (status) { status.textContent = rows.length + " new records"; }
    }).catch(function () {
      toggle.checked = false;
      if (status) { status.textContent = "live updates stopped: reload the page"; }
    }).then(function () { busy = false; });
  }
  window.setInterval(poll, 3000);
}());
