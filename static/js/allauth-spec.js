// Renders allauth's headless OpenAPI spec with the locally served Swagger UI (no CDN).
(function () {
  const config = document.getElementById("spec-config").dataset;
  window.SwaggerUIBundle({
    url: config.specUrl,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    requestInterceptor: (req) => { req.headers["X-CSRFToken"] = config.csrf; return req; },
  });
})();
