/**
 * Uploading a file into a room: the file itself is the request body (the
 * browser streams it from disk), its name in `Content-Disposition`. Sent with
 * XMLHttpRequest, the one browser API that reports upload progress; the page's
 * cookie signs it in.
 */
import type { Attachment } from "../../shared/protocol";
import { RequestError } from "./errors";

export interface UploadTask {
  /** The stored upload; rejects with a RequestError when refused, an AbortError when cancelled. */
  done: Promise<Attachment>;
  abort(): void;
}

/** Starts an upload; `onProgress` gets the share sent so far (0–1). */
export type Uploader = (roomId: string, file: File, onProgress: (sent: number) => void) => UploadTask;

/** What the server accepts (`GET /api/upload-limits`), to refuse a file before sending it. */
export interface UploadLimits {
  maxBytes: number;
  allowedTypes: string[];
}

export const xhrUploader: Uploader = (roomId, file, onProgress) => {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Attachment>((resolve, reject) => {
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: a proxy's page
      }
      if (xhr.status === 201 && body) resolve((body as { attachment: Attachment }).attachment);
      else reject(new RequestError(body && typeof body === "object" && "error" in body ? (body.error as never) : { code: "internal", message: `upload failed (${xhr.status})` }));
    };
    xhr.onerror = () => reject(new RequestError({ code: "unavailable", message: "the upload was interrupted" }));
    xhr.onabort = () => reject(new DOMException("cancelled", "AbortError"));
    xhr.open("POST", `/api/rooms/${encodeURIComponent(roomId)}/files`);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.setRequestHeader("Content-Disposition", `attachment; filename*=UTF-8''${encodeURIComponent(file.name || "file")}`);
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
};

/** Whether the server takes a file of this type (`image/*` and `*\/*` patterns). */
export function typeAllowed(type: string, allowed: string[]): boolean {
  const t = type || "application/octet-stream";
  return allowed.some((p) => p === "*/*" || p === t || (p.endsWith("/*") && t.startsWith(p.slice(0, -1))));
}

/** 2048 → "2 KB"; as the server counts (units of 1024). */
export function fileSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
