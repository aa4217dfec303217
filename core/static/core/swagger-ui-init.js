/* Starts Swagger UI as django-ninja's swagger-ui-init.js does (templates/ninja/swagger.html
 * loads this one instead), with one plugin.
 *
 * Optional sign-in is written in the schema as `security: [{"BearerJWT": []}, {}]`: the
 * empty requirement lets anonymous callers in. Swagger UI counts an empty requirement as
 * always met, so the padlock of such an operation showed "locked" (as if authorized) before
 * anyone pressed Authorize. The plugin asks about the named requirements only, so the
 * padlock is open until a token is given, like on every other protected operation.
 */
const csrfSettings = document.querySelector("body").dataset;
const configObject = JSON.parse(document.getElementById("swagger-settings").textContent);

const OptionalAuthPadlock = () => ({
    statePlugins: {
        auth: {
            wrapSelectors: {
                isAuthorized: (isAuthorized) => (state, securities) => {
                    const named = securities && securities.filter
                        ? securities.filter((requirement) => requirement.size > 0)
                        : securities;
                    return isAuthorized(named && named.size ? named : securities);
                },
            },
        },
    },
});

configObject.dom_id = "#swagger-ui";
configObject.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
configObject.plugins = [OptionalAuthPadlock];

if (csrfSettings.apiCsrf && csrfSettings.csrfToken) {
    configObject.requestInterceptor = (req) => {
        req.headers["X-CSRFToken"] = csrfSettings.csrfToken;
        return req;
    };
}

SwaggerUIBundle(configObject);
