import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { REFERENCE_DATA, REGISTER, type ReferenceDataResult, type RegisterInput, type Role } from '../graphql/documents';
import { errorMessage, fieldErrors } from '../graphql/errors';
import { Link } from '../router';
import { Alert, Field, Select } from '../ui/form';
import { placeOf } from '../ui/names';

const EMPTY: RegisterInput = {
  email: '',
  password: '',
  role: 'STARTUP',
  companyName: '',
  website: '',
  industryId: '',
  locationId: '',
  firstName: '',
  lastName: '',
};

export function RegisterPage() {
  const [input, setInput] = useState<RegisterInput>(EMPTY);
  const [{ data: reference }] = useQuery<ReferenceDataResult>({ query: REFERENCE_DATA });
  const [result, register] = useMutation(REGISTER);
  const set = (name: keyof RegisterInput) => (event: { target: { value: string } }) => setInput({ ...input, [name]: event.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const blankToNull = (value: string | null | undefined) => (value ? value : null);
    void register({
      input: {
        ...input,
        industryId: input.role === 'STARTUP' ? blankToNull(input.industryId) : null,
        locationId: blankToNull(input.locationId),
        firstName: blankToNull(input.firstName),
        lastName: blankToNull(input.lastName),
      },
    });
  };

  if (result.data) {
    return (
      <main className="card narrow">
        <h1>Check your email</h1>
        <Alert tone="info">We sent an activation link to {input.email}. Open it to activate your account, then sign in.</Alert>
        <p>
          <Link to="/sign-in">Sign in</Link>
        </p>
      </main>
    );
  }

  const fields = fieldErrors(result.error);
  const role: Role = input.role;
  return (
    <main className="card narrow">
      <h1>Create an account</h1>
      <form onSubmit={submit} noValidate>
        <fieldset className="roles">
          <legend>I represent</legend>
          {(['STARTUP', 'INVESTOR'] as const).map((value) => (
            <label key={value}>
              <input type="radio" name="role" value={value} checked={role === value} onChange={set('role')} />{' '}
              {value === 'STARTUP' ? 'a startup' : 'an investor'}
            </label>
          ))}
        </fieldset>
        <Field label="Email" name="email" type="email" autoComplete="email" value={input.email} onChange={set('email')} error={fields.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          value={input.password}
          onChange={set('password')}
          error={fields.password}
        />
        <Field label="Company name" name="companyName" value={input.companyName} onChange={set('companyName')} error={fields.companyName} />
        <Field label="Website" name="website" type="url" placeholder="https://" value={input.website} onChange={set('website')} error={fields.website} />
        {role === 'STARTUP' && (
          <Select label="Industry" name="industryId" value={input.industryId ?? ''} onChange={set('industryId')} error={fields.industryId}>
            <option value="">—</option>
            {reference?.industries.map((industry) => (
              <option key={industry.id} value={industry.id}>
                {industry.name}
              </option>
            ))}
          </Select>
        )}
        <Select label="Location" name="locationId" value={input.locationId ?? ''} onChange={set('locationId')} error={fields.locationId}>
          <option value="">—</option>
          {reference?.locations.map((location) => (
            <option key={location.id} value={location.id}>
              {placeOf(location)}
            </option>
          ))}
        </Select>
        <div className="row">
          <Field label="First name" name="firstName" value={input.firstName ?? ''} onChange={set('firstName')} error={fields.firstName} />
          <Field label="Last name" name="lastName" value={input.lastName ?? ''} onChange={set('lastName')} error={fields.lastName} />
        </div>
        {Object.keys(fields).length === 0 && <Alert>{errorMessage(result.error)}</Alert>}
        <button type="submit" disabled={result.fetching}>
          Create account
        </button>
      </form>
      <p>
        Have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </main>
  );
}
