/**
 * Templates for fields that exporters fill from a finding, such as a webhook body field
 * `"{{ rule.name }} from {{ actor.address }}"`. A placeholder names a dotted path into the
 * template context; list items are addressed by index (`evidence.0.summary`). A missing value
 * renders as an empty string. A template that is exactly one placeholder keeps the value's JSON
 * type, so `"{{ count }}"` renders the number 57 and `"{{ evidence }}"` the whole list.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\s*\}\}$/;

/** Returns a message for a template with an unclosed or malformed placeholder, else undefined. */
export function checkTemplate(template: string): string | undefined {
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    return `invalid template ${JSON.stringify(template)}: a placeholder must look like {{ rule.name }}`;
  }
  return undefined;
}

/** Renders one template against a context object. */
export function renderTemplate(template: string, context: unknown): unknown {
  const whole = WHOLE_PLACEHOLDER.exec(template);
  if (whole) return lookup(context, whole[1]) ?? '';
  return template.replace(PLACEHOLDER, (_match, path: string) => textOf(lookup(context, path)));
}

/** Renders a map of field templates into an object; dotted keys (`alert.title`) build nested objects. */
export function renderFields(fields: Record<string, string>, context: unknown): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, template] of Object.entries(fields)) setPath(result, key.split('.'), renderTemplate(template, context));
  return result;
}

function lookup(context: unknown, path: string): unknown {
  let current: unknown = context;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Object.hasOwn(current, part) ? (current as Record<string, unknown>)[part] : undefined;
  }
  return current;
}

function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function setPath(target: Record<string, unknown>, parts: string[], value: unknown): void {
  let current = target;
  for (const part of parts.slice(0, -1)) {
    const next = current[part];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) current[part] = {};
    current = current[part] as Record<string, unknown>;
  }
  current[parts[parts.length - 1]] = value;
}
