import '../no-eval';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { TvApp } from './App';
import { tvI18n } from './i18n';
import './tv.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <I18nextProvider i18n={tvI18n}>
      <TvApp />
    </I18nextProvider>
  </StrictMode>,
);
