// The account's secrets as the forms ask for them: new passwords, current passwords, codes.

import { field } from './forms.js';

export const MIN_PASSWORD = 10;

/** Attributes of a current-password input (for `field` or a dialog's `inputs`). */
export const PASSWORD_INPUT = {
  name: 'password',
  label: 'Password',
  type: 'password',
  autocomplete: 'current-password',
  required: true,
};

/** Attributes of an authenticator (or recovery) code input. */
export const CODE_INPUT = {
  type: 'text',
  name: 'code',
  autocomplete: 'one-time-code',
  autocapitalize: 'off',
  spellcheck: 'false',
  maxlength: '32',
  required: true,
};

/**
 * A new password typed twice. `check()` says whether it is long enough and typed the same
 * twice, marking and focusing the field that is not.
 */
export function newPasswordFields({ name = 'new_password', label = 'New password' } = {}) {
  const password = field({
    label,
    type: 'password',
    name,
    autocomplete: 'new-password',
    minlength: String(MIN_PASSWORD),
    hint: `At least ${MIN_PASSWORD} characters.`,
    required: true,
  });
  const again = field({
    label: `${label} again`,
    type: 'password',
    name: `${name}_again`,
    autocomplete: 'new-password',
    required: true,
  });
  const check = () => {
    password.setError(null);
    again.setError(null);
    if (password.input.value.length < MIN_PASSWORD) {
      password.setError(`Use at least ${MIN_PASSWORD} characters.`);
      password.input.focus();
      return false;
    }
    if (again.input.value !== password.input.value) {
      again.setError('The two passwords differ.');
      again.input.focus();
      return false;
    }
    return true;
  };
  const clear = () => {
    password.input.value = '';
    again.input.value = '';
  };
  return { elements: [password.element, again.element], password, check, clear };
}
