// Installable app: register the service worker (static/js/sw.js, served at /sw.js so it
// may look after the whole site). It keeps the page shell and static files for a quick
// start on a phone and shows the offline page when the site cannot be reached.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
      // No service worker (private window, old browser): the site works as before.
    });
  });
}
