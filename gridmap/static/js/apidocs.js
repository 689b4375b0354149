// Draws /api/openapi.json with Swagger UI (loaded just before from /vendor/swagger-ui-dist).
// A file of its own, not an inline script: the Content-Security-Policy allows scripts from
// this site only.
(function () {
  "use strict";
  var root = document.getElementById("gm-api-docs");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    // Nothing leaves this site: no validator badge (it would call validator.swagger.io).
    validatorUrl: null,
    tryItOutEnabled: false,
    withCredentials: true,
  });
})();
