import { ChatApp } from "./_components/ChatApp";

export default function Home() {
  return <ChatApp />;
}
