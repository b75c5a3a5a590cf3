// Who is signed in, asked of the API once per page load and kept up to date by login,
// signup, profile changes and logout.

import { api } from './api.js';

let user = null;
let known = false;

/** The signed-in account, or null (401). Other errors are thrown. */
export async function currentUser() {
  if (known) return user;
  try {
    user = await api.get('/api/auth/me', { expectUnauthorized: true });
  } catch (error) {
    if (error.status !== 401) throw error;
    user = null;
  }
  known = true;
  return user;
}

/** The account if already known, without asking the server. */
export function knownUser() {
  return known ? user : null;
}

export function setUser(account) {
  user = account;
  known = true;
}

export function clearUser() {
  user = null;
  known = true;
}

/** Ask the server again on the next page (the account changed elsewhere: a new address). */
export function forgetUser() {
  user = null;
  known = false;
}

/** Staff and admins answer support tickets. */
export function isStaff(account) {
  return account?.role === 'staff' || account?.role === 'admin';
}
