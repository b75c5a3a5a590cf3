// Links built from data: every value placed in a URL is encoded, so an address or a name
// can never add a parameter (a mailto: cc or body) or change the link's target.

/** A mailto: link to exactly this address: local part and domain each encoded. */
export function mailtoHref(address) {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  return `mailto:${encodeURIComponent(local)}@${encodeURIComponent(domain)}`;
}
