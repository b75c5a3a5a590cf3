// SVG images the API sends as data: URIs (the two-factor QR code), rebuilt as inline SVG
// elements from an allow-list of shapes and attributes: the page's Content-Security-Policy
// loads images only from our own origin, and nothing active (scripts, links, styles) can
// come along.

const SVG_NS = 'http://www.w3.org/2000/svg';
const ALLOWED = {
  svg: ['width', 'height', 'viewBox'],
  g: ['transform', 'fill', 'stroke'],
  path: ['d', 'transform', 'fill', 'stroke', 'stroke-width'],
  rect: ['x', 'y', 'width', 'height', 'transform', 'fill', 'stroke'],
};

function decode(uri) {
  const comma = uri.indexOf(',');
  if (!uri.startsWith('data:image/svg+xml') || comma < 0) return null;
  const data = uri.slice(comma + 1);
  try {
    return uri.slice(0, comma).endsWith(';base64') ? atob(data) : decodeURIComponent(data);
  } catch {
    return null;
  }
}

function copy(node) {
  const allowed = ALLOWED[node.localName];
  if (!allowed || node.namespaceURI !== SVG_NS) return null;
  const element = document.createElementNS(SVG_NS, node.localName);
  for (const name of allowed) {
    if (node.hasAttribute(name)) element.setAttribute(name, node.getAttribute(name));
  }
  for (const child of node.children) {
    const copied = copy(child);
    if (copied) element.append(copied);
  }
  return element;
}

/** An <svg role="img"> named `label`, or null when the URI holds no usable SVG. */
export function svgImage(uri, label) {
  const text = decode(uri);
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  if (doc.querySelector('parsererror')) return null;
  const svg = copy(doc.documentElement);
  if (!svg || svg.localName !== 'svg') return null;
  if (!svg.hasAttribute('viewBox') && svg.hasAttribute('width') && svg.hasAttribute('height')) {
    svg.setAttribute('viewBox', `0 0 ${svg.getAttribute('width')} ${svg.getAttribute('height')}`);
  }
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  return svg;
}
