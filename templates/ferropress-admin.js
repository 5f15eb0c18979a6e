// ferropress admin: optional enhancements. Every form works without this script.
(function () {
  'use strict';
  // Confirm destructive actions (revoke one / revoke all), as WordPress does.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) {
        event.preventDefault();
      }
    });
  });
  // Copy button beside a new password; the field stays selectable without it.
  document.querySelectorAll('.copy-button').forEach(function (button) {
    var input = document.getElementById(button.getAttribute('data-clipboard-target'));
    var status = button.parentNode.querySelector('.success');
    if (!input) { return; }
    button.hidden = false;
    button.addEventListener('click', function () {
      var done = function () { if (status) { status.textContent = 'Copied!'; } };
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          if (document.execCommand('copy')) { done(); }
        });
      } else if (document.execCommand('copy')) {
        done();
      }
    });
  });
  var notice = document.querySelector('.new-application-password-notice');
  if (notice) { notice.focus(); }
})();
