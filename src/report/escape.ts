/**
 * Escaping for report.html. Target names and expressions come from the user, so every string
 * that reaches the page goes through one of these: text and attributes through escapeHtml,
 * data (figure specs, results) through jsonForScript, which makes JSON safe inside a
 * <script type="application/json"> element (no '</script>', no '<!--', no U+2028/2029).
 */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
