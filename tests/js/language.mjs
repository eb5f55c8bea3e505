// The app's language switched in node, where there is no document for setLanguage to mark.
import { setLanguage } from "../../terminal_app/web/js/i18n.js";

// Runs ``check`` with the app in ``language``, then back in Russian, its default.
export function inLanguage(language, check) {
  globalThis.document = globalThis.document || { documentElement: {} };
  setLanguage(language);
  try {
    check();
  } finally {
    setLanguage("ru");
  }
}
