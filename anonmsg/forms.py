from urllib.parse import urlsplit

from django import forms

from anonmsg.models import Workspace


class AllowedOriginsForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["allowed_origins"]
        widgets = {
            "allowed_origins": forms.Textarea(
                attrs={"rows": 4, "placeholder": "https://www.example.com"}
            )
        }

    def clean_allowed_origins(self):
        origins = []
        for line in self.cleaned_data["allowed_origins"].splitlines():
            line = line.strip().rstrip("/")
            if not line:
                continue
            parts = urlsplit(line)
            if (
                parts.scheme not in ("http", "https")
                or not parts.netloc
                or parts.path
                or parts.query
            ):
                raise forms.ValidationError(
                    f"“{line}” is not an origin. Write scheme and host only, e.g. https://www.example.com"
                )
            origins.append(f"{parts.scheme}://{parts.netloc}".lower())
        return "\n".join(dict.fromkeys(origins))
