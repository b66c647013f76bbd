import type { Metadata } from "next";
import { AuthForm } from "../_components/AuthForm";

export const metadata: Metadata = { title: "Sign up · Switchboard" };

export default function SignupPage() {
  return <AuthForm mode="register" />;
}
