// Facts about this deployment that the server writes into the shell.

/** The address customers write to for help (the server's SUPPORT_EMAIL). */
export function supportEmail() {
  return document.querySelector('meta[name="support-email"]')?.getAttribute('content') || '';
}

/** The logo's address: its name carries a hash of the build, so the shell names it. */
export function logoUrl() {
  return document.querySelector('meta[name="logo"]')?.getAttribute('content') || '';
}
