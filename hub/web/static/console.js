// Incoming calls pop up as soon as the server sends a `ring` event.
(function () {
  var popup = document.getElementById("popup");
  if (!popup || !window.EventSource) { return; }
  var source = new EventSource("/console/events");
  source.addEventListener("ring", function (event) {
    var data = JSON.parse(event.data);
    if (document.getElementById("call-" + data.call_id)) { return; }
    fetch("/console/calls/" + encodeURIComponent(data.call_id), { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        popup.insertAdjacentHTML("afterbegin", html);
        var waiting = document.getElementById("waiting");
        if (waiting) { waiting.remove(); }
      });
  });
  source.addEventListener("taken", function (event) {
    var data = JSON.parse(event.data);
    var el = document.getElementById("call-" + data.call_id);
    if (el) { el.remove(); }
  });
})();
