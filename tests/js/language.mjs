// The app's language switched in node, where there is no document for setLanguage to mark.
import { setLanguage } from "../../terminal_app/web/js/i18n.js";

export function setLanguageWords(language) {
  globalThis.document = globalThis.document || { documentElement: {} };
  setLanguage(language);
}
