import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from 'react';

/** A labelled input with its error (from extensions.fields) right under it. */
export function Field({ label, error, ...input }: { label: string; error?: string | undefined } & InputHTMLAttributes<HTMLInputElement>) {
  const id = `field-${input.name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined} {...input} />
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function Select({
  label,
  error,
  children,
  ...select
}: { label: string; error?: string | undefined; children: ReactNode } & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = `field-${select.name}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} aria-invalid={error ? true : undefined} {...select}>
        {children}
      </select>
      {error && <p className="field-error">{error}</p>}
    </div>
  );
}

export const Alert = ({ children, tone = 'error' }: { children: ReactNode; tone?: 'error' | 'info' }) =>
  children ? (
    <p className={`alert alert-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </p>
  ) : null;
