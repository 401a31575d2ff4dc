/**
 * The page behind the activation link when APP_URL points at this server (the default).
 * Activation happens on a click, never on GET: mail scanners open links, and a GET that
 * consumed the token would burn it before its owner arrives.
 */
export const ACTIVATE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Activate your Forum API account</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}
button{padding:.6rem 1.2rem;font-size:1rem;border:0;border-radius:6px;background:#2f6feb;color:#fff;cursor:pointer}
button:disabled{background:#8a9bb8;cursor:default}
#result{margin-top:1rem}</style></head>
<body><h1>Activate your account</h1>
<p>Press the button to activate your Forum API account.</p>
<button id="activate">Activate account</button>
<p id="result" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get('token') || '';
const result = document.getElementById('result');
const button = document.getElementById('activate');
// A token works once: a second click after success would only report it as used.
button.addEventListener('click', async () => {
  button.disabled = true;
  result.textContent = 'Activating…';
  try {
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation($token: String!) { activate(token: $token) { id isActive } }', variables: { token } }),
    });
    const body = await response.json();
    result.textContent = body.errors ? body.errors[0].message : 'Your account is active. You can sign in now.';
    if (body.errors) button.disabled = false;
  } catch {
    result.textContent = 'The server could not be reached; try again.';
    button.disabled = false;
  }
});
</script></body></html>`;
