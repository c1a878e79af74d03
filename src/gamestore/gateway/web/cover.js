// A game's cover as an image: WebP and JPEG by width (srcset/sizes), its intrinsic size set so
// the page never shifts when it loads, alt text naming the game, lazy below the fold.

import { h } from './dom.js';

export const CARD_SIZES = '(max-width: 40rem) 100vw, 18rem';
export const PAGE_SIZES = '(max-width: 50rem) 100vw, 40rem';

/** A <picture> for ``cover`` ({url, srcset, webp_srcset, width, height}); null without one. */
export function coverImage(cover, title, { sizes = CARD_SIZES, eager = false } = {}) {
  if (!cover || typeof cover.url !== 'string') return null;
  const img = h('img', {
    src: cover.url, alt: `Capa de ${title}`, width: cover.width, height: cover.height,
    class: 'cover-img', decoding: 'async', loading: eager ? 'eager' : 'lazy',
    fetchpriority: eager ? 'high' : null,
    srcset: cover.srcset || null, sizes: cover.srcset ? sizes : null,
  });
  const webp = cover.webp_srcset
    ? h('source', { type: 'image/webp', srcset: cover.webp_srcset, sizes }) : null;
  return h('picture', { class: 'cover' }, webp, img);
}
