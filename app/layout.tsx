import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: "Switchboard",
  description: "Self-hosted real-time chat",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#16181d" },
  ],
};

/*
 * For browsers too old to run the React app (no modules, no modern syntax):
 * a plain ES5 check that offers the basic page if the app has not started
 * after a few seconds. Modern browsers set the flag long before that.
 */
const legacyFallback = `(function(){setTimeout(function(){if(window.__switchboardMounted)return;var n=document.getElementById('legacy-fallback');if(n)n.style.display='block';},6000);})();`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <noscript>
          <p className="legacy-banner">
            Switchboard needs JavaScript. Try the <a href="/legacy">basic version</a>.
          </p>
        </noscript>
        <p id="legacy-fallback" className="legacy-banner" style={{ display: "none" }}>
          Is this page not loading? Your browser may be too old: use the <a href="/legacy">basic version</a>.
        </p>
        {children}
        <script dangerouslySetInnerHTML={{ __html: legacyFallback }} />
      </body>
    </html>
  );
}
