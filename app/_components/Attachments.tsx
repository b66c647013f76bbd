"use client";

import { memo, useState } from "react";
import type { Attachment } from "../../shared/protocol";
import { fileSize } from "../_lib/upload";
import type { Upload } from "../_lib/chat-store";
import { useChat, useStore } from "../_lib/use-chat";
import { Dialog } from "./Dialog";

const fileUrl = (a: Attachment) => `/api/files/${encodeURIComponent(a.id)}`;
/** Thumbnails show at most this big (the server makes them twice that, for sharp screens). */
const BOX = 360;

/** A message's files: pictures as thumbnails that open in a viewer, other files as cards to download. */
export const AttachmentList = memo(function AttachmentList({ files }: { files: Attachment[] }) {
  const [viewing, setViewing] = useState<Attachment | null>(null);
  return (
    <div className="attachments">
      {files.map((a) =>
        a.image ? (
          <button key={a.id} className="attachment-image" title={a.name} aria-label={`Open picture ${a.name}`} onClick={() => setViewing(a)}>
            <img src={`${fileUrl(a)}/thumbnail`} alt={a.name} loading="lazy" {...fitted(a.image, BOX)} />
          </button>
        ) : (
          <a key={a.id} className="attachment-file" href={`${fileUrl(a)}?download`} download={a.name}>
            <span className="file-icon" aria-hidden="true">
              {extension(a.name)}
            </span>
            <span className="file-name">{a.name}</span>
            <span className="hint">
              {a.type} · {fileSize(a.size)}
            </span>
          </a>
        ),
      )}
      {viewing && <ImageViewer file={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
});

/** A picture at full size (as large as the window allows), with its download. */
function ImageViewer({ file, onClose }: { file: Attachment; onClose: () => void }) {
  return (
    <Dialog title={file.name} onClose={onClose} wide>
      <figure className="image-viewer">
        <img src={fileUrl(file)} alt={file.name} />
        <figcaption className="hint">
          {file.image!.width}×{file.image!.height} · {fileSize(file.size)} ·{" "}
          <a href={`${fileUrl(file)}?download`} download={file.name} data-autofocus>
            Download
          </a>
        </figcaption>
      </figure>
    </Dialog>
  );
}

/** The files chosen for the next message, above the message box: progress, cancel, and why one failed. */
export function UploadTray({ roomId }: { roomId: string }) {
  const uploads = useChat((s) => s.uploads[roomId]);
  const store = useStore();
  if (!uploads || uploads.length === 0) return null;
  return (
    <ul className="upload-tray" aria-label="Files to send">
      {uploads.map((u) => (
        <UploadChip key={u.key} upload={u} onRemove={() => store.removeUpload(roomId, u.key)} />
      ))}
    </ul>
  );
}

function UploadChip({ upload: u, onRemove }: { upload: Upload; onRemove: () => void }) {
  return (
    <li className={`upload ${u.status}`} aria-busy={u.status === "uploading" || undefined}>
      <span className="file-name" title={u.name}>
        {u.name}
      </span>
      <span className="hint">{fileSize(u.size)}</span>
      {u.status === "uploading" && <progress max={1} value={u.progress} aria-label={`Uploading ${u.name}`} />}
      {u.status === "failed" && (
        <span className="form-error" role="alert">
          {u.error}
        </span>
      )}
      <button type="button" className="icon" aria-label={u.status === "uploading" ? `Cancel ${u.name}` : `Remove ${u.name}`} onClick={onRemove}>
        ×
      </button>
    </li>
  );
}

/** Width and height within a box, keeping the shape (never larger than the picture). */
function fitted({ width, height }: { width: number; height: number }, box: number): { width: number; height: number } {
  const scale = Math.min(1, box / width, box / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** "report.pdf" → "PDF" for the file's badge. */
function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && name.length - dot <= 5 ? name.slice(dot + 1).toUpperCase() : "FILE";
}
