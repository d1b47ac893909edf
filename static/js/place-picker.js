// "Use my location" on the profile page: asks the browser where it is and fills the two
// position fields, rounded to 4 decimals (about 10 m; the server keeps only a point
// rounded to about 500 m). Progressive enhancement: the button stays hidden unless
// JavaScript and the browser's geolocation are there, and the fields work without it.
(function () {
  "use strict";

  const MESSAGES = {
    asking: "Asking your browser where you are…",
    filled: "Done: your position is filled in below. Press Save to keep it.",
    denied: "Your browser did not share your location. You can allow it in the browser's settings, or type the two numbers below.",
    unavailable: "Your location could not be found just now. Try again in a moment, or type the two numbers below.",
    timeout: "Finding your location took too long. Try again, or type the two numbers below.",
  };

  function round4(value) {
    return (Math.round(value * 10000) / 10000).toFixed(4);
  }

  function setUp(picker) {
    const latitude = document.getElementById(picker.dataset.latitude);
    const longitude = document.getElementById(picker.dataset.longitude);
    const details = document.getElementById(picker.dataset.details);
    const status = document.getElementById("place-status");
    const button = picker.querySelector("button");
    if (!latitude || !longitude || !button || !status) return;

    function say(text) {
      status.textContent = text;
    }

    button.addEventListener("click", function () {
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      say(MESSAGES.asking);
      navigator.geolocation.getCurrentPosition(
        function (position) {
          latitude.value = round4(position.coords.latitude);
          longitude.value = round4(position.coords.longitude);
          if (details) details.open = true;
          button.removeAttribute("aria-busy");
          button.disabled = false;
          say(MESSAGES.filled);
        },
        function (error) {
          button.removeAttribute("aria-busy");
          button.disabled = false;
          if (error.code === error.PERMISSION_DENIED) say(MESSAGES.denied);
          else if (error.code === error.TIMEOUT) say(MESSAGES.timeout);
          else say(MESSAGES.unavailable);
          if (details) details.open = true;
        },
        { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 }
      );
    });
    picker.hidden = false;
  }

  function start() {
    if (!("geolocation" in navigator)) return;
    document.querySelectorAll("[data-place-picker]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
