// Starts the API reference (the vendored Swagger UI) on /api/docs. It is a file of its own rather
// than an inline script so that the page's Content-Security-Policy can allow same-origin scripts
// only; the address of the OpenAPI document comes from the page's data-spec-url attribute.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    // The default validator is an external service; the page talks to this server only.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
