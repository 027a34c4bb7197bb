// The API docs page: Swagger UI (bundled from npm by scripts/build-web.sh) over this server's
// own /openapi.json, with "Try it out" calling the same origin.
window.addEventListener('DOMContentLoaded', () => {
  window.ui = window.SwaggerUIBundle({
    url: 'openapi.json',  // relative: works under a path prefix too
    dom_id: '#swagger-ui',
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    supportedSubmitMethods: ['get', 'head'],
  });
});
