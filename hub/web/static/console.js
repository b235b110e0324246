// Incoming calls pop up as soon as the server sends a `ring` event; a task's call shows how it goes (`dial`).
(function () {
  var popup = document.getElementById("popup");
  var dial = document.getElementById("dial-state");
  if ((!popup && !dial) || !window.EventSource) { return; }
  var source = new EventSource("/console/events");
  if (popup) {
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
  }
  if (dial) {
    source.addEventListener("dial", function (event) {
      var data = JSON.parse(event.data);
      if (String(data.contact_id) !== dial.dataset.contact) { return; }
      if (data.state === "failed" || data.state === "ended") {
        // What may be recorded depends on how the call ended: the page says it.
        window.location.reload();
        return;
      }
      var labels = JSON.parse(dial.dataset.labels);
      dial.textContent = labels[data.state] || data.state;
      dial.className = "badge " + data.state;
    });
  }
})();
