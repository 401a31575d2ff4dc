/** A page behind an emailed link whose form runs one mutation with the link's token. */
export interface TokenPageOptions {
  title: string;
  heading: string;
  intro: string;
  button: string;
  /** A mutation taking `$token: String!` and the fields below, by name. */
  mutation: string;
  /** Inputs sent with the token (all strings). */
  fields?: Array<{ name: string; label: string; type: 'password' | 'text'; autocomplete?: string }>;
  working: string;
  done: string;
}

/**
 * The pages behind emailed links when APP_URL points at this server (the default). The token
 * is used on a click, never on GET: mail scanners open links, and a GET that consumed the token
 * would burn it before its owner arrives. All text is ours (no user input reaches the page).
 */
export function tokenPage(options: TokenPageOptions): string {
  const fields = (options.fields ?? [])
    .map(
      (field) =>
        `<label>${field.label}<br><input name="${field.name}" type="${field.type}" required${field.autocomplete ? ` autocomplete="${field.autocomplete}"` : ''}></label>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${options.title}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin:.8rem 0}input{padding:.4rem;font-size:1rem;width:100%;box-sizing:border-box}
button{padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:6px;background:#2f6feb;color:#fff;cursor:pointer}
button:disabled{background:#8a9bb8;cursor:default}
#result{margin-top:1rem}</style></head>
<body><h1>${options.heading}</h1>
<p>${options.intro}</p>
<form id="form">
${fields}
<button type="submit">${options.button}</button>
</form>
<p id="result" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
const result = document.getElementById('result');
const form = document.getElementById('form');
const button = form.querySelector('button');
// A token works once: a second click after success would only report it as used.
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  button.disabled = true;
  result.textContent = ${JSON.stringify(options.working)};
  const variables = { token, ...Object.fromEntries(new FormData(form)) };
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ${JSON.stringify(options.mutation)}, variables }),
    });
    const body = await response.json();
    result.textContent = body.errors ? body.errors[0].message : ${JSON.stringify(options.done)};
    if (body.errors) button.disabled = false;
  } catch {
    result.textContent = 'The server could not be reached; try again.';
    button.disabled = false;
  }
});
</script></body></html>`;
}

export const ACTIVATE_PAGE = tokenPage({
  title: 'Activate your Forum API account',
  heading: 'Activate your account',
  intro: 'Press the button to activate your Forum API account.',
  button: 'Activate account',
  mutation: 'mutation($token: String!) { activate(token: $token) { id isActive } }',
  working: 'Activating…',
  done: 'Your account is active. You can sign in now.',
});
