// Refresh every element with data-src from its URL every two seconds.
(function () {
  function refresh() {
    document.querySelectorAll("[data-src]").forEach(function (el) {
      fetch(el.dataset.src, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { el.innerHTML = html; } })
        .catch(function () {});
    });
  }
  setInterval(refresh, 2000);
})();
