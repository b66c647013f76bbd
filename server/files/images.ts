/**
 * Thumbnails of uploaded images, made with sharp (libvips): turned upright by
 * their EXIF orientation, scaled to fit 800×800 (twice the size the web UI
 * shows them, for sharp screens), and written without metadata — no camera
 * details or GPS position leave in a thumbnail.
 */
import sharp from "sharp";

/** Formats shown inline: the raster images every browser draws. SVG never is (it can carry script). */
const INLINE_FORMATS: Record<string, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
};

/** Larger images are not decoded (a small file can claim an enormous canvas): they stay plain files. */
const MAX_PIXELS = 50_000_000;
const THUMB_BOX = 800;

export interface Thumbnail {
  /** The image's MIME type, from its content. */
  type: string;
  /** Upright size of the original. */
  width: number;
  height: number;
  /** A JPEG, or a PNG where the original has transparency (no metadata either way). */
  data: Buffer;
}

/** Whether an upload of this (declared) type may be an image worth a thumbnail. */
export function mayBeImage(type: string): boolean {
  return Object.values(INLINE_FORMATS).includes(type);
}

/**
 * Makes thumbnails, at most two at once per instance (decoding an image can
 * take tens of MB while it runs; the rest wait their turn).
 */
export class Thumbnailer {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly maxAtOnce = 2) {}

  /**
   * Reads `source` as an image: its thumbnail and upright size, or null when
   * it is not an image of a format shown inline (or cannot be decoded).
   */
  async make(source: AsyncIterable<Buffer>): Promise<Thumbnail | null> {
    if (this.running >= this.maxAtOnce) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await thumbnail(source);
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }
}

async function thumbnail(source: AsyncIterable<Buffer>): Promise<Thumbnail | null> {
  // libvips reads from memory: the image is held once, while its thumbnail is made.
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk);
  try {
    const image = sharp(Buffer.concat(chunks), { limitInputPixels: MAX_PIXELS, failOn: "error" });
    const meta = await image.metadata();
    const type = meta.format ? INLINE_FORMATS[meta.format] : undefined;
    if (!type || !meta.width || !meta.height) return null;
    // Orientations 5–8 are a quarter turn: width and height swap.
    const turned = (meta.orientation ?? 1) >= 5;
    const scaled = image.rotate().resize(THUMB_BOX, THUMB_BOX, { fit: "inside", withoutEnlargement: true });
    const data = meta.hasAlpha ? await scaled.png({ compressionLevel: 9, palette: true }).toBuffer() : await scaled.jpeg({ quality: 80, mozjpeg: true }).toBuffer();
    return { type, width: turned ? meta.height : meta.width, height: turned ? meta.width : meta.height, data };
  } catch {
    return null;
  }
}
