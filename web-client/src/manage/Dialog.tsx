import { useEffect, useId, useRef, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { useTranslation } from 'react-i18next';
import './manage.css';

/**
 * A modal dialog (the browser's own <dialog>: focus kept inside, Escape closes it). It opens when
 * mounted; closing it in any way calls `onClose`, and the caller unmounts it. It lives under <body>, so
 * it inherits nothing from where it is opened (a table cell's nowrap would keep its text on one line).
 */
export function Dialog({
  title,
  testId,
  onClose,
  children,
  actions,
}: {
  title: string;
  testId: string;
  onClose: () => void;
  children: ReactNode;
  /** The buttons at the bottom; a Cancel button that closes the dialog comes first. */
  actions?: ReactNode;
}) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return createPortal(
    <dialog
      ref={ref}
      className="manage-dialog"
      data-testid={testId}
      onClose={onClose}
      aria-labelledby={titleId}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
      <div className="dialog-actions">
        <button
          type="button"
          className="btn btn-ghost"
          data-testid={`${testId}-cancel`}
          onClick={() => ref.current?.close()}
        >
          {actions ? t('manage.lesson.cancel') : t('manage.users.close')}
        </button>
        {actions}
      </div>
    </dialog>,
    document.body,
  );
}

/** A question to confirm before something that cannot be undone. */
export function ConfirmDialog({
  title,
  text,
  confirmLabel,
  busy,
  error,
  testId,
  onConfirm,
  onClose,
}: {
  title: string;
  text: string;
  confirmLabel: string;
  busy: boolean;
  /** Why the last try was refused, in the reader's language. */
  error: string | null;
  testId: string;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Dialog
      title={title}
      testId={testId}
      onClose={onClose}
      actions={
        <button
          type="button"
          className="btn btn-danger-strong"
          data-testid={`${testId}-confirm`}
          disabled={busy}
          onClick={onConfirm}
        >
          {confirmLabel}
        </button>
      }
    >
      <p>{text}</p>
      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
    </Dialog>
  );
}
