import { lazy, Suspense, type ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { Center, Loader } from '@mantine/core';
import { useApp } from './state';
import Layout from './components/Layout';
import ErrorBoundary from './components/ErrorBoundary';
import { useI18n } from './i18n';

// Each page is its own chunk so the first page loads only what it draws.
const Login = lazy(() => import('./pages/Login'));
const Register = lazy(() => import('./pages/Register'));
const ResetRequest = lazy(() => import('./pages/ResetRequest'));
const ResetConfirm = lazy(() => import('./pages/ResetConfirm'));
const OAuthCallback = lazy(() => import('./pages/OAuthCallback'));
const Dashboard = lazy(() => import('./pages/Dashboard'));
const Tokens = lazy(() => import('./pages/Tokens'));
const Channels = lazy(() => import('./pages/Channels'));
const Users = lazy(() => import('./pages/Users'));
const Redemptions = lazy(() => import('./pages/Redemptions'));
const TopUp = lazy(() => import('./pages/TopUp'));
const Logs = lazy(() => import('./pages/Logs'));
const Playground = lazy(() => import('./pages/Playground'));
const Settings = lazy(() => import('./pages/Settings'));
const About = lazy(() => import('./pages/About'));
const NotFound = lazy(() => import('./pages/NotFound'));

function Spinner() {
  return (
    <Center h="60vh">
      <Loader />
    </Center>
  );
}

/** Protected sends anyone without a session to the sign-in page, remembering where they were going. */
function Protected({ children, admin, root }: { children: ReactNode; admin?: boolean; root?: boolean }) {
  const { user, loading, isAdmin, isRoot } = useApp();
  const loc = useLocation();
  if (loading) return <Spinner />;
  if (!user) return <Navigate to={`/login?next=${encodeURIComponent(loc.pathname + loc.search)}`} replace />;
  if ((admin && !isAdmin) || (root && !isRoot)) return <Navigate to="/" replace />;
  return <>{children}</>;
}

export default function App() {
  const { t } = useI18n();
  return (
    <ErrorBoundary title={t('This page failed')} reload={t('Reload')}>
      <Suspense fallback={<Spinner />}>
        <Routes>
          <Route path="/login" element={<Login />} />
          <Route path="/register" element={<Register />} />
          <Route path="/reset" element={<ResetRequest />} />
          <Route path="/user/reset" element={<ResetConfirm />} />
          <Route path="/oauth/github" element={<OAuthCallback provider="github" />} />
          <Route path="/oauth/oidc" element={<OAuthCallback provider="oidc" />} />
          <Route path="/oauth/lark" element={<OAuthCallback provider="lark" />} />
          <Route
            element={
              <Protected>
                <Layout />
              </Protected>
            }
          >
            <Route index element={<Dashboard />} />
            <Route path="/token" element={<Tokens />} />
            <Route path="/channel" element={<Protected admin><Channels /></Protected>} />
            <Route path="/user" element={<Protected admin><Users /></Protected>} />
            <Route path="/redemption" element={<Protected admin><Redemptions /></Protected>} />
            <Route path="/topup" element={<TopUp />} />
            <Route path="/log" element={<Logs />} />
            <Route path="/pg" element={<Playground />} />
            <Route path="/setting" element={<Settings />} />
            <Route path="/about" element={<About />} />
            <Route path="*" element={<NotFound />} />
          </Route>
        </Routes>
      </Suspense>
    </ErrorBoundary>
  );
}
