// What both scripts of the operator page need alike: building elements with text only (never
// HTML) and calling the dashboard's JSON endpoints with the admin token and the page's language.
window.tsdxPage = (function () {
  "use strict";

  const L = JSON.parse(document.getElementById("labels").textContent);
  const lang = document.documentElement.lang;
  const TOKEN_KEY = "tsdx-admin-token";

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(name, value);
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
    }
    return node;
  }

  // Every figure on the page is for operators: each call carries the admin token.
  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  async function call(url, options) {
    if (!token()) throw new Error(L.token_needed);
    let response;
    try {
      response = await fetch(url, {
        ...options,
        headers: {
          "Accept-Language": lang,
          Authorization: "Bearer " + token(),
          ...((options || {}).headers || {}),
        },
      });
    } catch (networkError) {
      // The browser's own words ("Failed to fetch") are in its language, not the page's.
      throw new Error(L.unreachable);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.message || L.http_error.replace("{status}", response.status));
      error.status = response.status;
      throw error;
    }
    return body;
  }

  return { L, lang, TOKEN_KEY, el, token, call };
})();
