// "Use my location" on the profile page: asks the browser where it is and fills the two
// position fields, rounded to 4 decimals (about 10 m; the server keeps only a point
// rounded to about 500 m). Progressive enhancement: the button stays hidden unless
// JavaScript and the browser's geolocation are there, and the fields work without it.
(function () {
  "use strict";

  // The messages are written (and translated) by the page: the data-message-* attributes
  // the profile-edit template sets on the picker (apps/peers/templates/peers/profile_edit.html).
  function messagesOf(picker) {
    const data = picker.dataset;
    return {
      asking: data.messageAsking || "",
      filled: data.messageFilled || "",
      denied: data.messageDenied || "",
      unavailable: data.messageUnavailable || "",
      timeout: data.messageTimeout || "",
    };
  }

  function round4(value) {
    return (Math.round(value * 10000) / 10000).toFixed(4);
  }

  function setUp(picker) {
    const latitude = document.getElementById(picker.dataset.latitude);
    const longitude = document.getElementById(picker.dataset.longitude);
    const details = document.getElementById(picker.dataset.details);
    const status = document.getElementById("place-status");
    const button = picker.querySelector("button");
    const MESSAGES = messagesOf(picker);
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
